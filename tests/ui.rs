//! Compile-time checks of `#[task]`: programs that must build, and mistakes that must not,
//! each with the error the user sees.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
