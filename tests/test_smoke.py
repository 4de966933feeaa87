from ecosystem_sim.model import EcosystemModel


def test_model_runs_a_year():
    m = EcosystemModel(rng=1)
    m.run(12)
    assert len(m.measures_frame()) == 13
