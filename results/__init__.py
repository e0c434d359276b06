"""Election results — see ARCHITECTURE.md. Not built yet: its index page says so."""
