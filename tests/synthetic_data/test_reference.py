from synthetic_data.reference import REFERENCE_DIR, REFERENCE_SETS, read_manifest, verify


def test_reference_data_regenerate_byte_for_byte():
    rows = verify()
    assert [r["file"] for r in rows] == [r.filename for r in REFERENCE_SETS]
    assert all(r["ok"] for r in rows), rows


def test_manifest_and_sidecars_are_committed():
    manifest = read_manifest()
    for ref in REFERENCE_SETS:
        assert len(manifest[ref.filename]) == 64
        assert (REFERENCE_DIR / (ref.filename + ".sidecar.json")).exists()
