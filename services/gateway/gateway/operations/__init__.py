"""Operations: what an operator needs beyond the monitoring, through the API (administrators)."""
