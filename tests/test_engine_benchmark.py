"""The benchmark's report: which machine the timings come from, and the targets' verdicts."""

from enhancer.engine.management.commands.engine_benchmark import describe_cpu, speed_verdicts

INTEL = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni
processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni
"""
AMD = "model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"


def test_the_cpu_is_described_by_its_widest_vector_units():
    assert describe_cpu(INTEL, 2) == (
        "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 cores, AVX-512 VNNI + AVX-512 + AVX2"
    )
    assert describe_cpu(AMD, 2) == "AMD EPYC, 2 cores, AVX2"
    assert describe_cpu("", 1) == "unknown CPU, 1 core, no AVX2"


def test_speed_targets_are_judged_on_the_encoded_learned_rows():
    mib = 2**20
    timings = {
        (2, "learned d1 m1"): (2.1, 490 * mib),
        (2, "learned d1 m1 + webp"): (2.69, 494 * mib),
        (4, "learned d1 m1 + webp"): (3.6, 520 * mib),
        (8, "classical d1 m1 + webp"): (6.0, 1900 * mib),  # not the learned core's memory
        (8, "learned d1 m1 + webp"): (12.56, 1049 * mib),
    }
    assert speed_verdicts(timings) == [
        "Target x2: learned d1 m1 + webp under 2.5 s: 2.69 s, NOT met.",
        "Target x4: learned d1 m1 + webp under 5 s: 3.60 s, met.",
        "Target x8: learned d1 m1 + webp under 15 s: 12.56 s, met.",
        "Target x8: peak memory of the learned core under 1.5 GiB: 1049 MiB, met.",
    ]
    assert speed_verdicts({}) == []
