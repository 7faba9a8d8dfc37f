"""Data access. PynamoDB models are used here and nowhere else."""
