"""Provenance: what was done to an image, by whom, with what, told in two ways.

`records` gathers a job's provenance (file fingerprints, settings, seed, engine, people, versions)
for its page and its JSON download. `signing` keeps the certificate that signs Content
Credentials, and `credentials` embeds those signed C2PA manifests in every result when a worker
collects it, so downloads, ZIPs and share pages all carry them.
"""
