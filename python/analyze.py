"""Entry point: python analyze.py PROJECT_DIR [OVERRIDES_JSON] prints the analysis as JSON."""

from pgsetup.analyze import main

if __name__ == "__main__":
    main()
