"""Reproducible demo data for Rapport (Vietnamese people, companies, pipelines, activity)."""

from domain.demo.seed import expected_counts, seed_demo

__all__ = ["expected_counts", "seed_demo"]
