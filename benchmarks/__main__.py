"""Run every benchmark in this folder."""

from benchmarks import analyze_speed, fit_speed, generate_speed, ingest_speed, power_speed

if __name__ == "__main__":
    fit_speed.main([])
    print()
    generate_speed.main([])
    print()
    ingest_speed.main([])
    print()
    analyze_speed.main([])
    print()
    power_speed.main([])
