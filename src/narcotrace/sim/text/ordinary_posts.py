"""Ordinary posts among the shops' ads: news, marketplace, chat, jobs, price lists of legal businesses.

A mixin of the post generator (posts.py): it uses the generator's random source, chats, names and drafts.
Many are hard negatives: they speak of drugs (seizure news, prevention, rehab), use the shops' words
innocently (salt, фен, марки, шишки, crystals, courier jobs) and carry phones, cards, handles and wallets.
"""

from __future__ import annotations

import re
from typing import Any

from narcotrace.sim.text import contacts as cx
from narcotrace.sim.text.chats import translit
from narcotrace.sim.text.grammar import Seg, join, options_for, plain
from narcotrace.sim.text.numbers import hours, round_price, weight_str


class OrdinaryPosts:
    """Methods of the post generator that write the ordinary posts."""

    def run_ordinary(self, n: int) -> None:
        kinds = self.ordinary["kinds"]
        names = list(kinds)
        weights = [kinds[k]["weight"] for k in names]
        share = self.ordinary.get("menu_share", 0.0)
        for _ in range(n):
            if self.rnd.chance(share):
                self.menu_post()
            else:
                self.ordinary_post(self.rnd.weighted(names, weights))

    def menu_post(self) -> None:
        """A legal business's price list: built like a shop's menu, with sizes, prices, delivery, contacts."""
        rnd = self.rnd
        menu = rnd.choice(self.ordinary["menus"])
        lang = rnd.weighted(("ru", "kk", "en", "mixed"), (7, 2.5, 0.5, 1))
        mix = ("ru", "kk")
        city = self.city()
        role = rnd.choice(self.ordinary["venues"][menu["venue"]]).strip("{}")
        chat = self.chats.get(role, city if role.startswith("city") else None)
        ctx = self.base_ctx(city, lang)
        ctx.update(self.ordinary_ctx(menu["kind"], city))
        g = self.ord_g
        bullet = rnd.choice(self.common["emoji"]["bullet"])
        blocks = [g.expand(rnd.choice(options_for(menu["title"], lang, rnd, list(mix))), lang, rnd, ctx, mix)]
        lines = []
        for name, sizes, unit, lo, hi in rnd.sample(menu["items"], 2 + rnd.below(len(menu["items"]) - 1)):
            size = rnd.choice(sizes)
            base = rnd.between(lo, hi)
            total = base * size if unit in ("кг", "л", "шт", "уп", "USDT", "BTC") else base
            price = self.fmt_money(round_price(total), lang if lang != "mixed" else "ru")
            c = {**ctx, "item": name, "size": f"{weight_str(size)} {unit}" if rnd.chance(0.7) else f"{weight_str(size)}{unit}",
                 "price": price, "bullet": bullet}
            lines.append(g.expand(rnd.choice(options_for(self.ordinary["menu_lines"], lang, rnd, list(mix))), lang, rnd, c, mix))
        blocks.append(join(lines, "\n"))
        footers = options_for(self.ordinary["menu_footer"], lang, rnd, list(mix))
        for t in rnd.sample(footers, 1 + rnd.below(4)):
            blocks.append(g.expand(t, lang, rnd, ctx, mix))
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        self.typos(segs)
        plain_text = plain(segs)
        obfs = self.style_noise(segs)
        self.add_draft(segs, chat, self.when(hours("ordinary")), label="none", kind=menu["kind"], lang=lang,
                       obfuscations=obfs, shop_id=None, categories=[], city=city, author=self.group_author(chat),
                       plain_text=plain_text)

    def ordinary_post(self, kind: str) -> None:
        rnd = self.rnd
        spec = self.ordinary["kinds"][kind]
        langs = list(spec["langs"])
        lang = rnd.weighted(langs, [spec["langs"][lg] for lg in langs])
        mix = ("ru", "kk") if lang != "en" else ("ru", "en")
        if lang in ("ru", "kk") and rnd.chance(0.06):
            lang, mix = "mixed", (lang, "en" if rnd.chance(0.4) else ("kk" if lang == "ru" else "ru"))
        city = self.city()
        venue = spec["venue"]
        role = rnd.choice(self.ordinary["venues"][venue]).strip("{}")
        chat = self.chats.get(role, city if role.startswith("city") else None)
        ctx = self.base_ctx(city, lang)
        ctx.update(self.ordinary_ctx(kind, city))
        tpl_lang = rnd.choice(mix) if lang == "mixed" else lang
        templates = spec["templates"].get(tpl_lang) or spec["templates"]["ru"]
        segs = self.ord_g.expand(rnd.choice(templates), lang, rnd, ctx, mix)
        tails = self.ordinary["tails"].get(venue)
        if tails and rnd.chance(0.55):
            opts = tails.get(tpl_lang) or tails.get("any") or tails.get("ru")
            for t in rnd.sample(opts, 1 + rnd.below(2)):
                last = plain(segs).rstrip()[-1:]
                sep = rnd.choice(("\n", "\n", " ", "\n\n") if not last.isalnum() else ("\n", ". ", " ", "\n\n"))
                segs += [Seg(sep)] + self.ord_g.expand(t, lang, rnd, ctx, mix)
        if rnd.chance(0.12):  # chat style: all lower case
            for s in segs:
                if s.entity is None:
                    s.text = s.text.lower()
        self.typos(segs)
        plain_text = plain(segs)
        obfs = self.style_noise(segs)
        date = self.when(hours("ordinary"))
        self.add_draft(segs, chat, date, label="none", kind=kind, lang=lang, obfuscations=obfs, shop_id=None,
                       categories=[], city=city, author=self.group_author(chat), plain_text=plain_text)

    def ordinary_ctx(self, kind: str, city: str) -> dict[str, Any]:
        rnd = self.rnd
        recruit_like = kind == "legal_courier_job"

        def phone(lg: str) -> list[Seg]:
            acc = self.public_account(phone=True)
            if acc:
                return [cx.phone_seg(acc[2], rnd, account_id=acc[0])]
            return [cx.phone_seg(cx.random_mobile(rnd), rnd)]

        chosen: list[tuple[str, str]] = []

        def wallet() -> tuple[str, str]:  # one wallet per post, so its coin and address agree
            if not chosen:
                chosen.append(cx.random_wallet(rnd))
            return chosen[0]

        def card(lg: str) -> list[Seg]:
            acc = self.public_account(card=True)
            if acc:
                return [cx.card_seg(acc[1], rnd, account_id=acc[0])]
            return [cx.card_seg(cx.random_card(rnd), rnd)]

        return {
            "phone": phone,
            "landline": lambda lg: [cx.phone_seg(cx.random_landline(rnd, self.chats.ru_name(city)), rnd)],
            "card": card,
            "handle": lambda lg: [cx.mention_seg(self.ordinary_handle())],
            "bot": lambda lg: [cx.mention_seg(self.ordinary_handle(bot=True))],
            "tme": lambda lg: [cx.tme_seg(self.ordinary_handle(), rnd)],
            "site": lambda lg: [cx.site_seg(self.ordinary_domain(), rnd, path=rnd.choice(("news", "page/2", "about", "catalog")))],
            "email": lambda lg: [cx.email_seg(self.ordinary_email())],
            "wallet": lambda lg: [cx.wallet_seg(*wallet(), rnd)],
            "coin": lambda lg: rnd.choice(self.common["coins"][wallet()[0]]),
            "price": self.price_slot(*self.ordinary["kinds"][kind].get("price", (1000, 100_000)), 500),
            "price_small": self.price_slot(1000, 25_000, 500),
            "price_big": self.price_slot(15_000, 900_000, 1000),
            "grams": lambda lg: rnd.choice((str(rnd.below(40) + 1), f"{rnd.below(900) + 10}", f"{rnd.below(9)+1},{rnd.below(9)+1}")),
            "kg": lambda lg: rnd.choice((str(rnd.below(60) + 1), f"{rnd.below(20)+1},{rnd.below(9)+1}", str(rnd.below(900) + 100))),
            "pay_day": self.price_slot(8000, 30000, 1000),
            "pay_week": self.price_slot(60_000 if not recruit_like else 90_000, 220_000, 5000),
            "pay_month": self.price_slot(180_000, 700_000, 10_000),
        }

    def public_account(self, card: bool = False, phone: bool = False) -> tuple | None:
        if not self.public_accounts or not self.rnd.chance(0.6):
            return None
        for _ in range(4):
            acc = self.rnd.choice(self.public_accounts)
            if (card and acc[1]) or (phone and acc[2]):
                return acc
        return None

    def ordinary_handle(self, bot: bool = False) -> str:
        rnd = self.rnd
        words = self.common["handle_words"]
        style = rnd.below(4)
        if style == 0:
            h = f"{rnd.choice(words)}_{rnd.choice(words)}"
        elif style == 1:
            h = f"{translit(self.person_name().split()[0]).lower()}_{rnd.choice(words)}"
        elif style == 2:
            h = f"{rnd.choice(words)}{rnd.choice(words)}{rnd.below(100) if rnd.chance(0.5) else ''}"
        else:
            h = f"{translit(self.person_name().split()[0]).lower()}{rnd.below(1000)}"
        h = re.sub(r"[^a-z0-9_]", "", h)
        if len(h) < 5:
            h += "_kz"
        if bot:
            h = h[:26] + ("_bot" if rnd.chance(0.6) else "bot")
        return h[:32]

    def ordinary_domain(self) -> str:
        words = self.common["handle_words"]
        sep = self.rnd.choice(("", "-", ""))
        return f"{self.rnd.choice(words)}{sep}{self.rnd.choice(words)}.{self.rnd.choice(self.common['domain_tlds'])}"

    def ordinary_email(self) -> str:
        user = translit(self.person_name().split()[0]).lower()
        user = re.sub(r"[^a-z0-9]", "", user) or "info"
        host = self.rnd.choice(("mail.ru", "gmail.com", "inbox.kz", "mail.kz", "yandex.kz", "bk.ru"))
        if self.rnd.chance(0.3):
            return f"{self.rnd.choice(('hr', 'info', 'job', 'office'))}@{self.ordinary_domain()}"
        return f"{user}{self.rnd.below(2000) if self.rnd.chance(0.6) else ''}@{host}"

