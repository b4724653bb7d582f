"""Qt-free PDF rendering of application forms with reportlab."""
