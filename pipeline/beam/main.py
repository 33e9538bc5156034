"""Entry point of the Flex Template launcher (FLEX_TEMPLATE_PYTHON_PY_FILE) and of local runs."""

from tideline_beam.pipeline import main

if __name__ == "__main__":
    main()
