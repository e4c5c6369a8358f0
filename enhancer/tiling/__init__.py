"""Photos of any size: split into tiles the API accepts, enlarged, joined without seams.

- `grid`: where the tiles go (`plan_tiles`), each within the API's area limit, overlapping.
- `sizes`: what a job will produce: the Enlarge a "Made for" target needs, the final size,
  and the largest Enlarge each output format and the pixel cap allow.
- `stitch`: the tiles' results joined with blended overlaps (libvips, in bounded memory).
- `output`: resizing to the final size and encoding PNG, JPEG or WebP with their dpi.
"""
