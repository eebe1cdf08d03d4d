"""The Qt edge: tray, windows, and the glue that brings engine events to the GUI thread."""
