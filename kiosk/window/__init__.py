"""The locked-down kiosk window: a GTK window around one WebKitGTK web view, a native toolbar,
a navigation guard, sessions that end in a full wipe, an idle timer, documents and printing.

Everything that decides something (policy, session, documents, printing) is plain Python and
tested without a display; the GTK/WebKit glue (``chrome``, ``webview``, ``kiosk``, ``run``) is thin.
"""
