"""Consented remote assistance on the kiosk (issue 13 point 3).

The agent (which holds the device token) waits for a mediator's request (:mod:`.agent_watch`) and
hands it to the window through a file in the folder both share (:mod:`.offers`). The window asks the
resident; only after « Oui » does it speak to the relay (:mod:`.relay_client`) with the session key of
the request, sending images of its own web view and showing the mediator's points and messages.
"""
