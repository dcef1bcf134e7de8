"""The gateway: the one HTTP API the front end uses, and the owner of the directory."""
