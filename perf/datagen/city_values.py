"""The records of the city-scale data set, as value dicts by entity field, deterministically from a
seed: enterprises → suppliers → stations → riders (one vehicle each) → violations and accidents,
every ref naming a record generated before it, spread over the districts of the organisation by
population. The shapes follow the requirement's pages (risk levels, stars, marks, on-site and
off-site violations, paid or not, simple and general accidents)."""
from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from dataclasses import dataclass, field

from forms.examples import id_card, mobile, person_name, uscc

# 常住人口（万人）by district code: the weight of a district in every spread. Unknown codes weigh 100.
POPULATION = {"310101": 66, "310104": 111, "310105": 69, "310106": 97, "310107": 124, "310109": 76, "310110": 124,
              "310112": 265, "310113": 223, "310114": 183, "310115": 568, "310116": 82, "310117": 190, "310118": 127,
              "310120": 114, "310151": 64}
# Rough centre (lng, lat) of each district, for the stations' map scatter.
CENTRE = {"310101": (121.49, 31.23), "310104": (121.44, 31.19), "310105": (121.42, 31.22), "310106": (121.45, 31.24),
          "310107": (121.40, 31.25), "310109": (121.49, 31.27), "310110": (121.53, 31.27), "310112": (121.38, 31.11),
          "310113": (121.49, 31.40), "310114": (121.27, 31.38), "310115": (121.60, 31.22), "310116": (121.34, 30.74),
          "310117": (121.23, 31.03), "310118": (121.12, 31.15), "310120": (121.47, 30.92), "310151": (121.40, 31.62)}
ROADS = ["中山路", "延安路", "南京路", "淮海路", "漕溪路", "虹桥路", "长寿路", "四平路", "沪太路", "曹安公路", "世纪大道",
         "龙吴路", "共和新路", "浦东南路", "人民路", "新华路"]
BEHAVIOURS = ["闯红灯", "逆向行驶", "未按规定戴安全头盔", "在机动车道内行驶", "违法载人", "违反规定停放", "超速行驶"]
PLATE_LETTERS = "ABCDEFGHJK"
TODAY = dt.date(2026, 11, 21)


def weighted(rng: random.Random, options: list, weights: list[float]):
    # The same draw as rng.choices(options, weights), without summing the weights on every call.
    return rng.choices(options, cum_weights=_cumulative(tuple(weights)))[0]


@functools.lru_cache(maxsize=None)
def _cumulative(weights: tuple) -> list:
    return list(itertools.accumulate(weights))


@dataclass
class World:
    """What later entities refer to, kept as parallel lists indexed by position."""

    districts: list[str]
    names: dict[str, str]
    enterprises: list[tuple[str, str]] = field(default_factory=list)             # (code, kind)
    suppliers: list[tuple[str, int, str]] = field(default_factory=list)          # (code, enterprise index, district)
    stations: list[tuple[str, int, str]] = field(default_factory=list)           # (code, supplier index, district)
    riders: list[tuple[str, int, str, str]] = field(default_factory=list)        # (code, enterprise index, district, kind)

    def add(self, entity: str, entries: list) -> None:
        """Record what the generated records of `entity` are, for the entities after it."""
        if entity in REFERRED:
            getattr(self, REFERRED[entity]).extend(entries)

    def district(self, rng: random.Random) -> str:
        return weighted(rng, self.districts, [POPULATION.get(d, 100) for d in self.districts])


def plate(index: int) -> str:
    return f"沪{PLATE_LETTERS[index % len(PLATE_LETTERS)]}{index:06d}"


def enterprises(world: World, numbers: range, rng: random.Random):
    kinds = {"express": "物流", "takeaway": "配送", "rental": "租赁"}
    for i in numbers:
        kind, district = weighted(rng, list(kinds), [4, 3, 3]), world.district(rng)
        entry = (f"E{i:04d}", kind)
        yield entry, {"code": f"E{i:04d}", "name": f"{rng.choice('申沪浦江东华鑫顺达通')}{rng.choice('达通捷快优递送骑')}{kinds[kind]}有限公司{i:03d}",
                      "kind": kind, "uscc": uscc(rng),
                      "address": f"上海市{world.names[district]}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                      "contact_name": person_name(rng), "contact_phone": mobile(rng),
                      "risk_level": weighted(rng, ["high", "medium", "low"], [1, 3, 6]), "district_code": district}


def suppliers(world: World, numbers: range, rng: random.Random):
    for i in numbers:
        enterprise = rng.randrange(len(world.enterprises))
        district, code = world.district(rng), f"S{i:05d}"
        entry = (code, enterprise, district)
        yield entry, {"code": code, "name": f"{world.names[district]}{rng.choice(ROADS)}加盟商{i:05d}",
                      "enterprise": world.enterprises[enterprise][0], "star": weighted(rng, [1, 2, 3, 4, 5], [5, 10, 35, 35, 15]),
                      "address": f"上海市{world.names[district]}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                      "contact_name": person_name(rng), "contact_phone": mobile(rng), "district_code": district}


def stations(world: World, numbers: range, rng: random.Random):
    for i in numbers:
        supplier = rng.randrange(len(world.suppliers))
        code, enterprise, home = world.suppliers[supplier]
        district = home if rng.random() < 0.7 else world.district(rng)
        lng, lat = CENTRE.get(district, (121.47, 31.23))
        entry = (f"ST{i:06d}", supplier, district)
        yield entry, {"code": f"ST{i:06d}", "name": f"{world.names[district]}{rng.choice(ROADS)}站{i:06d}",
                      "enterprise": world.enterprises[enterprise][0], "supplier": code,
                      "star": weighted(rng, [1, 2, 3, 4, 5], [4, 11, 35, 35, 15]),
                      "address": f"上海市{world.names[district]}{rng.choice(ROADS)}{rng.randint(1, 1999)}号",
                      "lng": round(lng + rng.gauss(0, 0.04), 6), "lat": round(lat + rng.gauss(0, 0.03), 6),
                      "contact_name": person_name(rng), "contact_phone": mobile(rng), "district_code": district}


def riders(world: World, numbers: range, rng: random.Random):
    for i in numbers:
        station = rng.randrange(len(world.stations))
        station_code, supplier, district = world.stations[station]
        enterprise = world.suppliers[supplier][1]
        kind = world.enterprises[enterprise][1]
        kind = kind if kind != "rental" else rng.choice(["express", "takeaway"])
        active = rng.random() < 0.85
        born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(14_600))
        entry = (f"R{i:07d}", enterprise, district, kind)
        yield entry, {"code": f"R{i:07d}", "name": person_name(rng), "id_number": id_card(rng, born), "mobile": mobile(rng),
                      "gender": weighted(rng, ["male", "female"], [9, 1]), "kind": kind,
                      "enterprise": world.enterprises[enterprise][0], "supplier": world.suppliers[supplier][0],
                      "station": station_code, "status": "active" if active else "left",
                      "mark": weighted(rng, ["green", "yellow", "red"], [80, 15, 5]), "registered": rng.random() < 0.92,
                      "last_active_date": TODAY - dt.timedelta(days=rng.randrange(1, 30) if active else rng.randrange(30, 720)),
                      "plate_no": plate(i), "district_code": district}


def vehicles(world: World, numbers: range, rng: random.Random):
    """Vehicle i is rider i's (its plate is the rider's plate_no); vehicles beyond the riders have no owner."""
    for i in numbers:
        owner = world.riders[i] if i < len(world.riders) else None
        kind = weighted(rng, ["enterprise", "personal", "rental", "other"], [45, 35, 15, 5])
        yield None, {"plate_no": plate(i), "frame_no": f"LC{rng.randrange(16**8):08X}{i:07d}", "kind": kind,
                      "status": weighted(rng, ["normal", "cancelled"], [93, 7]), "owner": owner and owner[0],
                      "enterprise": world.enterprises[owner[1]][0] if owner and kind in ("enterprise", "rental") else None,
                      "registered_on": TODAY - dt.timedelta(days=rng.randrange(1, 1095)),
                      "district_code": owner[2] if owner else world.district(rng)}


HOURS = list(range(24))
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 9, 12, 14, 10, 8, 8, 9, 12, 14, 11, 8, 5, 3, 2]


def _moment(rng: random.Random, days: int) -> dt.datetime:
    # Deliveries peak at lunch and dinner: so do violations and accidents.
    hour = weighted(rng, HOURS, HOUR_WEIGHTS)
    day = TODAY - dt.timedelta(days=rng.randrange(1, days))
    return dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)))


def _rider(world: World, rng: random.Random) -> int:
    # A few riders account for many violations: squaring a uniform draw skews towards the first.
    return int(len(world.riders) * rng.random() ** 2)


def violations(world: World, numbers: range, rng: random.Random):
    for i in numbers:
        code, enterprise, home, _ = world.riders[r := _rider(world, rng)]
        district = home if rng.random() < 0.6 else world.district(rng)
        paid = rng.random() < 0.7
        yield None, {"code": f"V{i:08d}", "occurred_at": _moment(rng, 365),
                      "place": f"{world.names[district]}{rng.choice(ROADS)}{rng.choice(ROADS)}路口", "behaviour": rng.choice(BEHAVIOURS),
                      "rider": code, "vehicle": plate(r), "enterprise": world.enterprises[enterprise][0],
                      "mode": weighted(rng, ["onsite", "offsite"], [35, 65]), "payment": "paid" if paid else "unpaid",
                      "handled": paid or rng.random() < 0.5, "district_code": district}


def accidents(world: World, numbers: range, rng: random.Random):
    for i in numbers:
        code, enterprise, home, kind = world.riders[_rider(world, rng)]
        general = rng.random() < 0.2
        district = home if rng.random() < 0.6 else world.district(rng)
        yield None, {"code": f"A{i:06d}", "occurred_at": _moment(rng, 365),
                      "place": f"{world.names[district]}{rng.choice(ROADS)}{rng.randint(1, 999)}号附近",
                      "kind": "general" if general else "simple", "deaths": int(general and rng.random() < 0.03),
                      "injuries": rng.choice([0, 0, 1, 1, 2]) if general else 0, "enterprise": world.enterprises[enterprise][0],
                      "rider": code, "rider_kind": kind,
                      "responsibility": weighted(rng, ["full", "main", "equal", "minor", "none"], [15, 30, 25, 20, 10]),
                      "district_code": district}


# The entities others refer to, and the World list that holds them.
REFERRED = {"enterprise": "enterprises", "supplier": "suppliers", "station": "stations", "rider": "riders"}
# Generation order: each entity refers only to those before it. A generator yields, for each number
# of `numbers`, (what the World keeps of the record or None, the record's values).
GENERATORS = {"enterprise": enterprises, "supplier": suppliers, "station": stations, "rider": riders,
              "vehicle": vehicles, "violation": violations, "accident": accidents}
