"""Run paytoken as `python -m tidak_cli`."""

from .launch import main

if __name__ == "__main__":
    main()
