from django.core.management.base import BaseCommand

from payments import reconciliation


class Command(BaseCommand):
    help = "Compare our payments and refunds with Stripe's, refund charges without a live booking, report mismatches."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="How far back to look (default 30 days).")

    def handle(self, *args, days, **options):
        for line in reconciliation.reconcile(days=days).lines():
            self.stdout.write(line)
