"""Places among peers, as bulletins write them ("居全省第9位"): ties share a place, the next skips (1, 2, 2, 4)."""


def competition_ranks(values, higher_is_better=True):
    """{key: place} for {key: value}; a key whose value is None gets no place."""
    present = [(key, value) for key, value in values.items() if value is not None]
    present.sort(key=lambda item: item[1], reverse=higher_is_better)
    places, previous, place = {}, object(), 0
    for index, (key, value) in enumerate(present, start=1):
        if value != previous:
            place, previous = index, value
        places[key] = place
    return places
