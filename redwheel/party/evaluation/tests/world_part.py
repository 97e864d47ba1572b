"""One object of each evaluation model in the tenancy world (redwheel/tests/world.py): a round
of branch_a in voting, in which the world's member has voted."""

from redwheel.core.dates import local_date
from redwheel.party.evaluation import services
from redwheel.party.evaluation.models import Ballot


def build(world, operator) -> None:
    city = world.city
    other = city.member(f"{world.marker}评议党员")
    world.add(other, other.membership)
    rnd = services.round_open(actor=operator, branch=city.branch_a, year=local_date().year)
    mine = rnd.participants.get(driver=world.member)
    services.self_assessment_save(
        actor=world.member.user, participant=mine, text=f"{world.marker}认真学习，热情服务。"
    )
    services.round_start_voting(actor=operator, round=rnd)
    choices = {p.pk: "qualified" for p in rnd.participants.exclude(pk=mine.pk)}
    receipt = services.ballot_cast(actor=world.member.user, round=rnd, choices=choices)
    world.add(rnd, *rnd.participants.all(), *rnd.activities.all(), receipt)
    world.add(Ballot.objects.filter(round=rnd).exclude(choice="").first())
