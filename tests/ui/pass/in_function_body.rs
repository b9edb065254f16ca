#![deny(warnings)]

use workflow::prelude::*;

fn main() {
    use serde::{Deserialize, Serialize};

    // A type declared in the same function body as the tasks that use it.
    #[derive(Serialize, Deserialize)]
    struct Point {
        x: i64,
        y: i64,
    }

    #[task]
    fn origin() -> Point {
        Point { x: 0, y: 0 }
    }

    #[task]
    fn shift(p: Point, by: i64) -> Point {
        Point {
            x: p.x + by,
            y: p.y + by,
        }
    }

    #[task(max_retries = 1)]
    async fn norm(p: Point) -> Result<i64, String> {
        Ok(p.x.abs() + p.y.abs())
    }

    #[task(name = "local.total")]
    fn total(values: Vec<i64>) -> i64 {
        values.into_iter().sum()
    }

    // Declared but never bound: no unused warnings.
    #[task]
    fn unused() {}

    // Configured out: nothing generated for it remains either.
    #[task]
    #[cfg(any())]
    fn gone(x: NotDeclared) -> NotDeclared {
        x
    }

    // The functions stay callable as written.
    assert_eq!(shift(origin(), 2).x, 2);

    let start: Dag<Point> = shift::bind(origin::bind(), 3);
    let length: Dag<i64> = norm::bind(start);
    let _sum: Dag<i64> = total::bind(vec![length, norm::bind(Point { x: 1, y: -2 })]);

    nested();
}

fn nested() {
    use serde::{Deserialize, Serialize};

    // A private type in the signature of a task in an inner block of a private function.
    #[derive(Serialize, Deserialize)]
    struct Private(u8);

    {
        #[task]
        fn inner(p: Private) -> u8 {
            p.0
        }

        let _: Dag<u8> = inner::bind(Private(1));
    }
}
