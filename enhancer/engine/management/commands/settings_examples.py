"""Make the small pictures that explain Detail and Change on the New enhancement form.

The same crop of a CC0 photo (scikit-image's "coffee", by Rachel Michetti: a saucer's rim on
coarse wood grain) is enlarged 2x by the built-in engine at each level of one setting, the
other kept at its middle level. Run once, commit the files: they are static, and the page never
runs the engine to explain itself.

    pip install -e ".[train]"   # scikit-image, for the photo
    python manage.py settings_examples
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image

from enhancer.engine.pipeline import EnhanceSettings, enhance_image

OUT = Path(settings.BASE_DIR) / "static" / "examples"
CROP = (400, 250, 520, 370)  # the saucer's rim on the wood, 120 x 120
INPUT_SIZE = 80  # shrunk first, as a small photo would come in
SEED = 7  # Strong change adds grain: the same grain every run


class Command(BaseCommand):
    help = "Render the Detail and Change example crops into static/examples/."

    def handle(self, *args, **options) -> None:
        from skimage import data

        photo = Image.fromarray(data.coffee()).crop(CROP)
        small = photo.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.LANCZOS)
        OUT.mkdir(parents=True, exist_ok=True)
        for level in (1, 2, 3):
            for name, choice in (
                ("detail", EnhanceSettings(scale=2, details=level, modification=1, seed=SEED)),
                ("change", EnhanceSettings(scale=2, details=1, modification=level, seed=SEED)),
            ):
                result = enhance_image(small, choice)
                path = OUT / f"{name}-{level}.webp"
                result.save(path, "WEBP", quality=88, method=6)
                size = path.stat().st_size
                self.stdout.write(f"{path.relative_to(settings.BASE_DIR)}: {size} bytes")
