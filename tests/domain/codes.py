"""The 限度額適用区分 codes the rules derive (OQSCD012, DOMAIN.md §5), named for the tests."""


class C:
    A01, A02, A03, A04, A05 = "A01", "A02", "A03", "A04", "A05"
    B01, B02, B03, B04, B05, B06 = "B01", "B02", "B03", "B04", "B05", "B06"
