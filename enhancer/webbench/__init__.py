"""The web benchmark (`manage.py web_benchmark`): the real gunicorn stack under wrk.

`seed` fills one team with N jobs, `settings` and `urls` add a bare Django view beside the real
site (so both are measured on the same gunicorn settings in the same run), and `wrk` runs and
reads Debian's wrk.
"""
