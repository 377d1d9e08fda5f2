# Two commands matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local runs: DEBUG on, a throwaway key, mails printed to the console.
RUN_ENV := DEBUG=1 TRACKER_INSECURE_DEV_KEY=1

# Django 6 needs Python >= 3.12; the first interpreter found that is new enough builds .venv.
find_python = for c in $$PYTHON python3.14 python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	  [ -n "$$c" ] || continue; \
	  command -v "$$c" >/dev/null 2>&1 || [ -x "$$c" ] || continue; \
	  "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$c"; exit 0; }; \
	done; exit 1

.PHONY: run test venv migrate browser messages lint clean reminders screenshots

$(VENV)/.installed: requirements.txt requirements-test.txt
	@py=$$($(find_python)) || { echo "ERROR: Python 3.12 or newer is needed (Django 6). Install it (e.g. pyenv install 3.12) or set PYTHON=/path/to/python3.12." >&2; exit 1; }; \
	  echo "Using $$py ($$($$py --version))"; \
	  [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { rm -rf $(VENV); $$py -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(RUN_ENV) $(PY) manage.py migrate --noinput

run: migrate
	$(RUN_ENV) $(PY) manage.py loaddata bozhou_2022 demo registers_demo
	$(RUN_ENV) $(PY) manage.py refresh_register_figures
	@echo ""
	@echo "  Target tracker: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Demo logins (invented accounts, password demo-pass-2022):"
	@$(RUN_ENV) $(PY) manage.py shell --no-imports -c "from tracker.accounts.models import Membership as M; [print(f'    {m.user.username:<22} {m.get_role_display()} · {m.unit}') for m in M.objects.select_related('user','unit').order_by('role','unit__code')]"
	@echo "  Reminders: make reminders (or see README: worker and beat)."
	@echo ""
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The reminders due today, sent now (embedded mode: run it from cron). DATE=YYYY-MM-DD runs as that day;
# DRY=1 prints one JSON line per email instead of sending.
reminders: migrate
	$(RUN_ENV) $(PY) manage.py send_reminders $(if $(DATE),--date $(DATE)) $(if $(DRY),--dry-run)

# Debian's chromium for the browser tests, LibreOffice and poppler for the word-processor check of the
# bulletin; best effort here, required in CI.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-writer-nogui poppler-utils
browser:
	@{ command -v chromium && command -v soffice && command -v pdftotext; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null) \
	      || echo "WARNING: could not install $(SYSTEM_PACKAGES); their tests will be skipped"; \
	  else echo "NOTE: $(SYSTEM_PACKAGES) not all installed; their tests will be skipped (apt-get install ...)"; fi; }

test: venv browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Every role's main pages at 1366 and 390 px, in Chinese and English, as PNGs in screenshots/ (git-ignored), from a
# throwaway database with the 2022 plan and the demo data. Needs Debian's chromium (make browser).
screenshots: venv browser
	$(PY) tools/screenshots.py --out screenshots

lint: venv
	$(PY) -m ruff check .

# One catalogue for the whole project: every string of the apps, templates and other modules under tracker/
# goes into tracker/locale/zh_Hans (LOCALE_PATHS, which also overrides Django's own wording), then it is
# compiled (the .mo is committed). Only tracker/ is scanned, so .venv, tests and bench stay out.
messages: venv
	cd tracker && $(RUN_ENV) $(CURDIR)/$(PY) $(CURDIR)/manage.py makemessages -l zh_Hans --no-obsolete
	$(RUN_ENV) $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
