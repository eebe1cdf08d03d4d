"""Finding a program's icon in the X system tray (for the tray test and the tray benchmark)."""

from __future__ import annotations


def tray_icon_window(display: str, pid: int) -> tuple[int, int, int, int] | None:
    """Screen rectangle of the app's icon window embedded in the tray, found by its _NET_WM_PID."""
    from Xlib import X
    from Xlib.display import Display

    conn = Display(display)
    try:
        root = conn.screen().root
        pid_atom = conn.intern_atom("_NET_WM_PID")
        stack = [root]
        while stack:
            window = stack.pop()
            try:
                stack.extend(window.query_tree().children)
                attrs = window.get_attributes()
                prop = window.get_full_property(pid_atom, X.AnyPropertyType)
            except Exception:  # windows come and go while we walk the tree
                continue
            if prop is None or int(prop.value[0]) != pid or attrs.map_state != X.IsViewable:
                continue
            geometry = window.get_geometry()
            parent = window.query_tree().parent
            # the tray host (trayer) reparents the icon: that is how we know it is embedded
            if parent is None or parent.id == root.id or geometry.width > 64:
                continue
            origin = window.translate_coords(root, 0, 0)
            return -origin.x, -origin.y, geometry.width, geometry.height
        return None
    finally:
        conn.close()
