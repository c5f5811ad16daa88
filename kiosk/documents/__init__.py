"""What the web shell and the window share about a session's documents: the session's documents folder
(:mod:`kiosk.documents.folder`) and printing on the town hall's printer (:mod:`kiosk.documents.printing`).

Plain Python, no GTK: the window creates them and hands them to the shell, which never imports the window.
"""
