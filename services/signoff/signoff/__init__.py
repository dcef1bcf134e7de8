"""Sign-off: exemplars, versions, signatures and counter-signatures, chronology, workflow messages, timeliness."""
