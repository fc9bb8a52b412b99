#!/bin/sh
# Make sure a TeX engine that can compile derive's report is installed.
# As root with apt-get: install it from Debian packages. Otherwise: say what to install.
set -e
PACKAGES="texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk"
if command -v pdflatex >/dev/null 2>&1 && command -v latexmk >/dev/null 2>&1 \
   && kpsewhich booktabs.sty >/dev/null 2>&1 && kpsewhich lmodern.sty >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tex: installing $PACKAGES (Debian packages, a few minutes)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
    exit 0
fi
echo "ensure-tex: no TeX engine found and cannot install one (not root, or no apt-get)."
echo "ensure-tex: install: $PACKAGES"
echo "ensure-tex: the report's .tex and .json are still written; the PDF needs TeX."
exit 0
