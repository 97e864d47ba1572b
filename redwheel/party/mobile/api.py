from ninja import Router

router = Router(tags=["party-mobile"])
