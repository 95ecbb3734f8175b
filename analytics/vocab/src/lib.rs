//! The shared vocabulary of camtwin: what a counted object is
//! ([`ObjectClass`], COCO's names) and which way it crossed a line
//! ([`Direction`]), and the privacy configurations under which the edge core
//! runs ([`privacy`]).
//!
//! The simulation writes ground truth in these words and the edge core counts
//! in them, so scoring compares like with like. The crate has no
//! dependencies but serde: the edge core may depend on it without seeing the
//! simulation.

pub mod privacy;

/// Classes the product counts, with COCO's names and indices: the road users
/// a street census distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectClass {
    /// COCO class 0.
    Person,
    /// COCO class 1.
    Bicycle,
    /// COCO class 2.
    Car,
    /// COCO class 3.
    Motorcycle,
    /// COCO class 5.
    Bus,
    /// COCO class 7.
    Truck,
}

impl ObjectClass {
    /// Every counted class, in output order.
    pub const ALL: [ObjectClass; 6] =
        [Self::Person, Self::Bicycle, Self::Car, Self::Motorcycle, Self::Bus, Self::Truck];

    /// Maps a COCO class index to a counted class (`None` for classes a
    /// street census ignores).
    pub fn from_coco(index: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.coco_index() == index)
    }

    /// The COCO class index (0-based, 80-class order).
    pub fn coco_index(self) -> usize {
        match self {
            Self::Person => 0,
            Self::Bicycle => 1,
            Self::Car => 2,
            Self::Motorcycle => 3,
            Self::Bus => 5,
            Self::Truck => 7,
        }
    }

    /// Name used in outputs (COCO's).
    pub fn name(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Bicycle => "bicycle",
            Self::Car => "car",
            Self::Motorcycle => "motorcycle",
            Self::Bus => "bus",
            Self::Truck => "truck",
        }
    }

    /// Parses an output name back.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// A motor vehicle: car, motorcycle, bus or truck.
    pub fn is_motor_vehicle(self) -> bool {
        matches!(self, Self::Car | Self::Motorcycle | Self::Bus | Self::Truck)
    }

    /// Whether two classes may name the same object. A detector often calls
    /// one vehicle a car in one frame and a truck or a bus in the next (a
    /// van, a lorry seen head-on), or both in one frame: motor vehicles are
    /// one kind for suppression and tracking, and the track takes the class
    /// most of its boxes gave it. A rider is found as a person in the frames
    /// where the bicycle or motorcycle under them is not: a person and a
    /// two-wheeler are of one kind too.
    pub fn same_kind(self, other: Self) -> bool {
        let rider = |a: Self, b: Self| a == Self::Person && matches!(b, Self::Bicycle | Self::Motorcycle);
        self == other
            || (self.is_motor_vehicle() && other.is_motor_vehicle())
            || rider(self, other)
            || rider(other, self)
    }
}

/// Which way a line was crossed: `Positive` goes from the left of the line
/// (looking from its first end to its second) to its right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Left to right of the line.
    Positive,
    /// Right to left of the line.
    Negative,
}

impl Direction {
    /// Both directions, in output order.
    pub const BOTH: [Direction; 2] = [Self::Positive, Self::Negative];

    /// Name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }

    /// Parses an output name back.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::BOTH.into_iter().find(|d| d.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coco_indices_and_names_round_trip() {
        for c in ObjectClass::ALL {
            assert_eq!(ObjectClass::from_coco(c.coco_index()), Some(c));
            assert_eq!(ObjectClass::from_name(c.name()), Some(c));
        }
        assert_eq!(ObjectClass::from_coco(4), None, "aeroplanes are not counted");
        assert_eq!(ObjectClass::from_coco(7), Some(ObjectClass::Truck));
        for d in Direction::BOTH {
            assert_eq!(Direction::from_name(d.name()), Some(d));
        }
    }
}
