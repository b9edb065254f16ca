mod tasks {
    use serde::{Deserialize, Serialize};
    use workflow::prelude::*;

    #[derive(Serialize, Deserialize)]
    pub(crate) struct Point {
        pub(crate) x: i64,
        pub(crate) y: i64,
    }

    // A private type in the signature of a private task.
    #[derive(Serialize, Deserialize)]
    struct Scale(i64);

    #[task]
    fn scale_of(n: i64) -> Scale {
        Scale(n)
    }

    #[task]
    fn scaled(p: self::Point, s: Scale) -> Point {
        Point {
            x: p.x * s.0,
            y: p.y * s.0,
        }
    }

    #[task]
    pub(crate) fn origin() -> Point {
        Point { x: 0, y: 0 }
    }

    #[task]
    pub(crate) fn norm(p: Point) -> i64 {
        p.x.abs() + p.y.abs()
    }

    pub(crate) fn doubled(p: Dag<Point>) -> Dag<Point> {
        scaled::bind(p, scale_of::bind(2))
    }

    pub mod nested {
        use workflow::prelude::*;

        #[task]
        pub fn shift(p: super::Point, by: i64) -> super::Point {
            super::Point {
                x: p.x + by,
                y: p.y + by,
            }
        }
    }
}

use workflow::prelude::*;

fn main() {
    let start = tasks::nested::shift::bind(tasks::origin::bind(), 3);
    let _n: Dag<i64> = tasks::norm::bind(tasks::doubled(start));
    let _direct: i64 = tasks::norm(tasks::Point { x: 1, y: -2 });
}
