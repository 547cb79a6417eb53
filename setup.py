"""Shim for Dataflow's --setup_file: the project's metadata lives in pyproject.toml."""

from setuptools import setup

setup()
