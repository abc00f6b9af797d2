"""Entry point: log in as the app with its driver and URL (PGSETUP_LOGIN_URL), print TLS state as JSON."""

from pgsetup.login_check import cli

if __name__ == "__main__":
    cli()
