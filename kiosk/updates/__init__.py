"""Kiosk software updates (issue 12): the agent downloads a signed release, verifies every file, installs
it beside the running version; the launcher switches to it at a session boundary and rolls back by itself
when the new version never shows a healthy home screen or crash-loops. See docs/updates.md."""
