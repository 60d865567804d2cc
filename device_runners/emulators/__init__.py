"""Emulators shipped to users: a virtual MLPerf Tiny DUT, an interface board, an LPM01A monitor."""
