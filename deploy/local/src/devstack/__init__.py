"""Local real components for Benecomune: a Kafka broker (KRaft) and PostgreSQL clusters."""
