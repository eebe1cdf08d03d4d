# Convenience targets; each goes through .ci/bootstrap, which installs what is missing.
.PHONY: run test bench screenshots soak
run:
	./.ci/bootstrap run
test:
	./.ci/bootstrap test
bench:
	./.ci/bootstrap bench
screenshots:
	./.ci/bootstrap screenshots
soak:
	./.ci/bootstrap soak
