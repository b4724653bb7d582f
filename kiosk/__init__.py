"""Qt-free core of the 書かない窓口 kiosk: state machines, services, storage, audit."""
