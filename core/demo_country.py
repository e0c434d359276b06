"""core's demo data (filled in below)."""
