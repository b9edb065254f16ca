use workflow::prelude::*;

fn main() {
    struct Name(String);

    #[task]
    fn greet(name: &Name, times: u8) -> String {
        name.0.repeat(times as usize)
    }

    // Only the borrowed argument is reported: `bind` still exists and checks the rest.
    let _: Dag<String> = greet::bind(Name("x".to_string()), 2);
}
