"""Kept for the bench scripts' command lines: the generator lives in fixtures/synthetic.py."""

from fixtures.synthetic import generate, process, write  # noqa: F401

if __name__ == "__main__":
    import runpy

    runpy.run_module("fixtures.synthetic", run_name="__main__")
