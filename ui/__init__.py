"""All PySide6 code: the resident, staff and admin windows and their widgets."""
