"""Celery workers of newswire: thin tasks around the pure pipeline."""
