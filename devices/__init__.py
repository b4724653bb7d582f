"""Device interfaces (card reader, printer, payment) with real and simulated adapters.
Qt-free: adapters block on their own worker thread and know nothing about the UI."""
