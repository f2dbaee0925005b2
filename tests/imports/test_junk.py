"""Junk rules, and the valid-but-odd rows that must pass."""

import pytest

from campaigns.imports.junk import Rule, email_problem, judge, name_problem


@pytest.mark.parametrize("name", ["Testing!£##", "test test", "asdf", "Test", "qwerty", "N/A", "xxx"])
def test_test_values_are_junk_names(name):
    assert name_problem(name) in {Rule.NAME_TEST_VALUE, Rule.NAME_NO_LETTERS}


@pytest.mark.parametrize("name", ["!!!", "12345", "£££ ###", "   "])
def test_names_without_letters_are_junk(name):
    assert name_problem(name) == Rule.NAME_NO_LETTERS


@pytest.mark.parametrize("name", ["O'Brien", "José Núñez", "John Doe", "Testa Rossi", "Ng", "Zoë Saldaña", "李小龍"])
def test_real_names_pass(name):
    assert name_problem(name) is None


def test_an_email_without_a_letter_or_digit_before_the_at_is_junk():
    assert email_problem("!!!@mail.com") == (Rule.EMAIL_LOCAL_PART, "")


@pytest.mark.parametrize("email", ["a@b", "x@foo.notatld", "x@co.uk", "x@@y.com"])
def test_an_email_whose_domain_cannot_exist_is_junk(email):
    assert email_problem(email)[0] == Rule.EMAIL_DOMAIN


def test_a_real_email_is_normalised():
    assert email_problem(" John.Doe@Example.COM ") == (None, "john.doe@example.com")


def test_the_seed_junk_row_is_junk():
    # given the source document's junk lead: Testing!£##, 123456789, !!!@mail.com
    # when
    verdict, usable = judge(name="Testing!£##", valid_phones=0, emails=["!!!@mail.com"])
    # then
    assert verdict.is_junk
    assert set(verdict.problems) == {
        Rule.NAME_TEST_VALUE,
        Rule.EMAIL_LOCAL_PART,
        Rule.NO_POSSIBLE_NUMBER,
        Rule.NO_USABLE_EMAIL,
    }
    assert usable == []


def test_a_valid_number_with_a_junk_name_is_not_junk():
    verdict, _ = judge(name="test test", valid_phones=1, emails=[])
    assert not verdict.is_junk
    assert verdict.problems == (Rule.NAME_TEST_VALUE,)


def test_no_number_and_no_usable_email_is_junk():
    verdict, _ = judge(name="Jane Roe", valid_phones=0, emails=[])
    assert verdict.is_junk


def test_no_number_but_a_real_name_and_email_is_not_junk():
    verdict, usable = judge(name="Jane Roe", valid_phones=0, emails=["jane@roe.com"])
    assert not verdict.is_junk
    assert usable == ["jane@roe.com"]


def test_a_bad_email_beside_a_valid_number_is_dropped_not_fatal():
    verdict, usable = judge(name="Jane Roe", valid_phones=1, emails=["!!!@mail.com", "jane@roe.com"])
    assert not verdict.is_junk
    assert usable == ["jane@roe.com"]
