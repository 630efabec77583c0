"""The staff console (/console) and the employer portal (/portal): server-rendered pages.

(`shikaku.terminal` is the CLI's Rich consoles; this package is the web console.)
"""
