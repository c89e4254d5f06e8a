# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of accmem's documentation (make docs, scripts/docs).
#
# The kernel's kernel-doc extension (Documentation/sphinx/kerneldoc.py) and
# scripts/kernel-doc are taken at build time from Debian's
# linux-source-6.12 by scripts/ksrc, like the kselftest harness: nothing of
# them is committed here. ACCMEM_KERNELDOC_SPHINX and ACCMEM_KERNELDOC name
# them when set (scripts/docs sets both); otherwise scripts/ksrc is asked.
"""Sphinx configuration of the accmem documentation."""

import os
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))


def ksrc(what):
    """Path of a kernel source file, from scripts/ksrc (it extracts)."""
    return subprocess.run([os.path.join(TOP, 'scripts', 'ksrc'), what],
                          check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()


sys.path.insert(0, os.environ.get('ACCMEM_KERNELDOC_SPHINX') or
                ksrc('sphinx'))

project = 'accmem'
copyright = 'The accmem authors'
author = 'The accmem authors'
with open(os.path.join(TOP, 'dkms.conf'), encoding='utf-8') as f:
    for line in f:
        if line.startswith('PACKAGE_VERSION='):
            release = version = line.split('=', 1)[1].strip().strip('"')

extensions = ['kerneldoc']
kerneldoc_bin = os.environ.get('ACCMEM_KERNELDOC') or ksrc('kernel-doc')
kerneldoc_srctree = TOP
# kernel-doc's warnings become Sphinx warnings, so sphinx-build -W fails
# on a missing or malformed comment.
kerneldoc_verbosity = 1

master_doc = 'index'
# Documentation/ABI/ is in the kernel's ABI file format, not RST (the
# kernel renders it with another extension); it is read as text.
exclude_patterns = ['ABI']
primary_domain = 'c'
highlight_language = 'none'
html_theme = 'alabaster'
html_static_path = []
