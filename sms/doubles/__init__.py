"""Local doubles of outside systems (Twilio's REST API…) that speak their real protocols over loopback."""
