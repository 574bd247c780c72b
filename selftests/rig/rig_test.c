// SPDX-License-Identifier: GPL-2.0
/*
 * The test rig's own selftest, for the results check: each case below is
 * one way a test could pass without passing, and scripts/check asserts
 * that the run reports each one (against selftests/rig/expectations).
 * Run alone, this program fails; that is its purpose.
 */

#include "../snapmap_test.h"

/* A skip that the expectations do not list: the run must fail. */
TEST(unlisted_skip)
{
	SKIP(return, "a skip the expectations do not list");
}

/*
 * A skip after a failed expectation: the failure must stand, where the
 * 6.1 harness alone reports "ok ... # SKIP".
 */
TEST(skip_after_failure)
{
	EXPECT_EQ(0, 1);
	SKIP(return, "a skip after a failure");
}

/*
 * A case the expectations list as skipping, which passes: the run must
 * fail, so that the list is corrected.
 */
TEST(listed_but_passes)
{
	EXPECT_EQ(0, 0);
}

/*
 * A fixture whose setup skips: listed as skipping, and its body must not
 * run (the 6.1 harness alone runs it, and reports its failures as a skip).
 */
FIXTURE(setup_skips) {
	int unused;
};

FIXTURE_SETUP(setup_skips)
{
	SKIP(return, "the setup skips");
}

FIXTURE_TEARDOWN(setup_skips)
{
	printf("# rig: the teardown ran after its setup skipped\n");
}

TEST_F(setup_skips, body)
{
	printf("# rig: the body ran after its setup skipped\n");
	EXPECT_EQ(0, 1);
}

TEST_HARNESS_MAIN
