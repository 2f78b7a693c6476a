"""One drug shop's posts: sale ads (naming its active drops, wallets, handles, bots, sites) and recruitment.

Each ad is a random structure of blocks from sale.yaml in the shop's languages, with its price list from
drugs.yaml at the shop's own price level, disguised at the shop's own rate with its favourite techniques.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from narcotrace.sim.model import DropSpell, Shop
from narcotrace.sim.text import contacts as cx
from narcotrace.sim.text.chats import translit
from narcotrace.sim.text.grammar import Seg, join, options_for, plain
from narcotrace.sim.text.numbers import aware, hours, round_price, weight_str
from narcotrace.sim.text.obfuscate import TECHNIQUES

# Aliases the world generator may use for the lexicon's drug categories.
CATEGORY_ALIASES = {"cathinones": "mephedrone", "alpha-pvp": "alpha_pvp", "apvp": "alpha_pvp", "lsd": "psychedelics",
                    "mushrooms": "psychedelics", "pills": "prescription_pills", "spice": "synthetic_cannabinoids",
                    "heroin": "opioids", "hashish": "cannabis", "mdma_tabs": "mdma"}


class ShopWriter:
    """Writes one shop's ads and recruitment posts into the generator's drafts."""

    def __init__(self, g: Any, shop: Shop) -> None:
        self.g = g
        self.shop = shop
        rnd = g.rnd
        self.rnd = rnd
        self.products = self._products()
        self.level = rnd.between(0.85, 1.2)
        self.base_price = {p["key"]: round_price(rnd.between(*p["price"]) * self.level) for _, p in self.products}
        self.obf_rate = rnd.between(0.25, 0.65)  # ≈45 % of ads on average, some shops more careful than others
        self.techniques = rnd.sample(TECHNIQUES, 1 + rnd.below(3))
        self.cities = [c for c in shop.cities if c in g.cities] or list(shop.cities) or [g.city()]
        self.langs = [lg for lg in shop.langs if lg in ("ru", "kk", "en")] or ["ru"]
        self.personas = [self._persona() for _ in range(1 + rnd.below(3))]
        self.covered: set[int] = set()
        self.window_end = g.start + timedelta(days=g.days)

    def _products(self) -> list[tuple[str, dict]]:
        out = []
        for cat in self.shop.drugs:
            cat = CATEGORY_ALIASES.get(cat.lower(), cat.lower())
            spec = self.g.drugs.get(cat)
            if spec:
                out.extend((cat, p) for p in spec["products"])
        if not out:
            spec = self.g.drugs["mephedrone"]
            out = [("mephedrone", p) for p in spec["products"]]
        return out

    def _persona(self) -> str:
        rnd = self.rnd
        brand = self.shop.brand
        opts = (f"{brand} | Оператор", "Оператор 24/7", f"{brand}", f"{brand} Support", self.g.person_name(),
                f"{rnd.choice(('Менеджер', 'Admin', 'Оператор', 'Саппорт'))} {brand}", f"{brand} 🔌")
        return rnd.choice(opts)

    def price(self, key: str, w: float) -> int:
        base = self.base_price[key]
        return round_price(base * w * w ** -0.12)

    def active_drops(self, when: datetime) -> list[tuple[int, DropSpell]]:
        out = []
        for i, d in enumerate(self.shop.drops):
            s, e = aware(d.start), aware(d.end)
            if s <= when < e:
                out.append((i, d))
        return out

    def run(self) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        rate = rnd.between(0.8, 3.0)
        n_ads = int(rnd.rng.poisson(rate * g.days))
        for _ in range(n_ads):
            self.sale_ad(g.when(hours("sale")))
        # Every drop the shop uses is named in at least one of its ads while it is active.
        for i, d in enumerate(shop.drops):
            if i in self.covered:
                continue
            lo, hi = max(aware(d.start), g.start), min(aware(d.end), self.window_end)
            if lo < hi:
                self.sale_ad(g.when(hours("sale"), lo, hi), must_name=i)
        if shop.domain:
            for _ in range(1 + rnd.below(3)):
                self.sale_ad(g.when(hours("sale")), site=shop.domain)
        if shop.onion:
            for _ in range(1 + rnd.below(2)):
                self.sale_ad(g.when(hours("sale")), site=shop.onion)
        n_rec = int(rnd.rng.poisson(rnd.between(0.08, 0.4) * g.days))
        for _ in range(n_rec):
            self.recruitment(g.when(hours("sale")))

    # -- where -------------------------------------------------------------------------------------------
    def venue(self, recruitment: bool) -> tuple[dict, str, dict]:
        """Chat, author and Telegram extras (forwarded from the shop's channel) of one post."""
        g, rnd = self.g, self.rnd
        own = g.chats.shop_channel(self.shop)
        city = rnd.choice(self.cities)
        x = rnd.random()
        if recruitment:
            role = "own" if x < 0.4 else "city_jobs" if x < 0.75 else "city_chat"
        else:
            role = "own" if x < 0.45 else "city_chat" if x < 0.78 else "city_market" if x < 0.95 else "operator"
        if role == "own":
            return own, own["name"], {"city": city}
        if role == "operator":
            persona = self.personas[0]
            chat = g.chats.operator_chat(self.shop, persona, g.user_id(f"{self.shop.shop_id}:{persona}"))
            return chat, persona, {"city": city, "user_key": f"{self.shop.shop_id}:{persona}"}
        chat = g.chats.get(role, city)
        persona = rnd.choice(self.personas)
        tg: dict = {"city": city, "user_key": f"{self.shop.shop_id}:{persona}"}
        if rnd.chance(0.25):
            tg["forwarded_from"] = own["name"]
        return chat, persona, tg

    # -- context ------------------------------------------------------------------------------------------
    def ctx(self, city: str, lang: str, used_products: list[tuple[str, dict]], named: list[DropSpell],
            wallet_named: list, primary: tuple[str, dict]) -> dict[str, Any]:
        g, rnd, shop = self.g, self.rnd, self.shop
        cid = shop.shop_id
        ctx = g.base_ctx(city, lang)
        chosen = rnd.sample(self.products, 1 + rnd.below(min(4, len(self.products))))
        if primary not in chosen:
            chosen.insert(0, primary)
        handles = shop.handles or [re.sub(r"\W+", "", translit(shop.brand).lower()) + "_shop"]
        bots = shop.bots or handles

        def use(p: tuple[str, dict]) -> None:
            if p not in used_products:
                used_products.append(p)

        def name_of(p: tuple[str, dict], lg: str) -> list[Seg]:
            use(p)
            lg = rnd.choice(self.langs) if lg == "mixed" else lg
            names = p[1]["names"].get(lg) or p[1]["names"]["ru"]
            return [Seg(rnd.choice(names), sensitive=True, category=p[0])]

        prim_names = primary[1]["names"].get(lang if lang != "mixed" else self.langs[0]) or primary[1]["names"]["ru"]
        prim_name = rnd.choice(prim_names)

        def drug(lg: str) -> list[Seg]:
            use(primary)
            return [Seg(prim_name, sensitive=True, category=primary[0])]

        def drugs(lg: str) -> list[Seg]:
            sep = rnd.choice((", ", "/", " / ", " и " if lg == "ru" else ", ", " • ", " | "))
            return join([name_of(p, lg) for p in chosen[:2 + rnd.below(3)]], sep)

        def weights_of(p: tuple[str, dict], lg: str) -> str:
            prod = p[1]
            ws = sorted(rnd.sample(prod["weights"], 1 + rnd.below(min(4, len(prod["weights"])))))
            fmt = rnd.choice(options_for(self.g.sale["weight_price"][prod["unit"]], lg, rnd, self.langs))
            sep = rnd.choice(self.g.sale["weight_sep"])
            parts = []
            for w in ws:
                p_ = self.price(prod["key"], w)
                self.prices[f"{prod['key']}:{weight_str(w)}{prod['unit']}"] = p_
                wtxt = weight_str(w).replace(".", ",") if rnd.chance(0.3) else weight_str(w)
                parts.append(fmt.format(w=wtxt, p=g.fmt_money(p_, lg)))
            return sep.join(parts)

        def price_list(lg: str) -> list[Seg]:
            lines = []
            bullet = rnd.choice(g.common["emoji"]["bullet"])
            tpl = rnd.choice(g.sale["price_line"].get(lg if lg != "mixed" else rnd.choice(self.langs), g.sale["price_line"]["ru"]))
            for p in chosen:
                c = dict(ctx)
                c["drug"] = lambda lg2, p=p: name_of(p, lg2)
                c["weights"] = lambda lg2, p=p: weights_of(p, lg2)
                c["bullet"] = bullet
                c["drug_emoji"] = rnd.choice(g.drugs[p[0]]["emoji"])
                lines.append(g.sale_g.expand(tpl, lg, rnd, c, self.mix))
            return join(lines, "\n")

        def primary_weight() -> float:
            return rnd.choice(primary[1]["weights"][:3])

        pw = primary_weight()

        def price(lg: str) -> str:
            p_ = self.price(primary[1]["key"], pw)
            self.prices[f"{primary[1]['key']}:{weight_str(pw)}{primary[1]['unit']}"] = p_
            return g.fmt_money(p_, lg)

        def weight(lg: str) -> str:
            unit = primary[1]["unit"]
            u = {"g": rnd.choice(("г", "гр", "g")), "pc": rnd.choice(("шт", "tab", "т"))}[unit] if lg != "en" else \
                {"g": "g", "pc": rnd.choice(("pcs", "tabs"))}[unit]
            return f"{weight_str(pw)}{u}" if rnd.chance(0.6) else f"{weight_str(pw)} {u}"

        def pay(lg: str) -> list[Seg]:
            lines = []
            for d in named:
                if d["how"] in ("card", "both") and d["drop"].card:
                    lines.append(g.sale_g.expand(rnd.choice(options_for(g.sale["pay"]["card"], lg, rnd, self.langs)), lg, rnd,
                                                 {**ctx, "card": [cx.card_seg(d["drop"].card, rnd, d["drop"].account_id, cid)]},
                                                 self.mix))
                if d["how"] in ("phone", "both") and d["drop"].phone:
                    lines.append(g.sale_g.expand(rnd.choice(options_for(g.sale["pay"]["phone"], lg, rnd, self.langs)), lg, rnd,
                                                 {**ctx, "phone": [cx.phone_seg(d["drop"].phone, rnd, d["drop"].account_id, cid)]},
                                                 self.mix))
            for w in wallet_named:
                lines.append(g.sale_g.expand(rnd.choice(options_for(g.sale["pay"]["crypto"], lg, rnd, self.langs)), lg, rnd,
                                             {**ctx, "wallet": [cx.wallet_seg(w.chain, w.address, rnd, w.account_id, cid)],
                                              "coin": rnd.choice(g.common["coins"].get(w.chain, ["crypto"]))},
                                             self.mix))
            if not lines:
                lines.append(g.sale_g.expand(rnd.choice(options_for(g.sale["pay"]["none"], lg, rnd, self.langs)), lg, rnd, ctx,
                                             self.mix))
            return join(lines, "\n")

        ctx.update({
            "brand": shop.brand,
            "drug": drug, "drugs": drugs, "price_list": price_list, "price": price, "weight": weight, "pay": pay,
            "drug_emoji": lambda lg: rnd.choice(g.drugs[primary[0]]["emoji"]),
            "handle": lambda lg: [cx.mention_seg(rnd.choice(handles), cid)],
            "handle2": lambda lg: [cx.mention_seg(rnd.choice(handles), cid)] if len(handles) > 1 or rnd.chance(0.5)
            else [cx.tme_seg(rnd.choice(handles), rnd, cid)],
            "tme": lambda lg: [cx.tme_seg(rnd.choice(handles + bots[:1]), rnd, cid)],
            "bot": lambda lg: [cx.mention_seg(rnd.choice(bots), cid)] if rnd.chance(0.8)
            else [cx.tme_seg(rnd.choice(bots), rnd, cid)],
            "site": lambda lg: [cx.site_seg(shop.domain, rnd, cid, path=rnd.choice(("shop", "catalog", city_path(city))))]
            if shop.domain else [cx.tme_seg(rnd.choice(handles), rnd, cid)],
            "onion": lambda lg: [cx.onion_seg(shop.onion, rnd, cid)] if shop.onion else [cx.mention_seg(rnd.choice(bots), cid)],
            "pay_week": g.price_slot(150_000, 600_000, 10_000),
            "pay_day": g.price_slot(25_000, 90_000, 5000),
            "pay_month": g.price_slot(600_000, 2_500_000, 50_000),
            "pay_week2": g.price_slot(400_000, 900_000, 10_000),
            "deposit": g.price_slot(20_000, 100_000, 5000),
        })

        def city_path(c: str) -> str:
            return g.chats.city_tag(c)
        return ctx

    def pick_lang(self) -> tuple[str, tuple[str, ...]]:
        rnd = self.rnd
        if rnd.chance(0.12):
            other = [lg for lg in self.langs if lg != "ru"] or ["en"]
            return "mixed", ("ru", rnd.choice(other))
        return rnd.choice(self.langs), (self.langs[0], "en")

    # -- a sale ad --------------------------------------------------------------------------------------------
    def sale_ad(self, when: datetime, must_name: int | None = None, site: str | None = None) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        lang, self.mix = self.pick_lang()
        if site:
            chat = g.chats.website(shop, site)
            author, tg = shop.brand, {"city": rnd.choice(self.cities)}
        else:
            chat, author, tg = self.venue(recruitment=False)
        city = tg["city"] if chat["role"] in ("shop_channel", "personal_chat", "website") else (chat["city"] or tg["city"])
        # Which payment accounts this ad names: drops active now (most ads), maybe the shop's wallet.
        active = self.active_drops(when)
        named: list[dict] = []
        if must_name is not None:
            i = must_name
            named.append({"i": i, "drop": shop.drops[i], "how": self._how(shop.drops[i])})
        elif active and rnd.chance(0.88):
            uncovered = [a for a in active if a[0] not in self.covered]
            pool = uncovered or active
            k = 1 if rnd.chance(0.8) else 2
            for i, d in rnd.sample(pool, k):
                named.append({"i": i, "drop": d, "how": self._how(d)})
        for d in named:
            self.covered.add(d["i"])
        wallets = [rnd.choice(shop.wallets)] if shop.wallets and rnd.chance(0.18 if named else 0.4) else []
        used: list[tuple[str, dict]] = []
        self.prices: dict[str, int] = {}
        primary = rnd.choice(self.products)
        ctx = self.ctx(city, lang, used, named, wallets, primary)
        structures = g.sale["site_structures"] if site else g.sale["structures"]
        structure = list(rnd.choice(structures))
        if (named or wallets) and "pay" not in [b.lstrip("?") for b in structure]:
            structure.append("pay")
        blocks = []
        for b in structure:
            optional = b.startswith("?")
            b = b.lstrip("?")
            if optional and not (b == "pay" and (named or wallets)) and rnd.chance(0.45):
                continue
            block = g.sale["blocks"][b]
            options = block.get(lang if lang != "mixed" else rnd.choice(self.mix)) or block.get("any") or block["ru"]
            blocks.append(g.sale_g.expand(rnd.choice(self.usable(options)), lang, rnd, ctx, self.mix))
        if site:
            ctx_tag = g.chats.city_tag(city)
            tg["url"] = f"https://{site}/{rnd.choice(('', 'catalog/', 'shop/', ctx_tag + '/'))}" if not site.endswith(".onion") \
                else f"http://{site}/{rnd.choice(('', 'market/', ctx_tag + '/'))}"
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        if not any(s.indicators for s in segs):  # an ad with no way to reach the shop is no ad
            segs += [Seg("\n")] + ctx["handle"](lang)
        if chat["platform"] == "telegram" and rnd.chance(0.15):
            # A linked call to action ("ЗАКАЗАТЬ" -> the bot) to a handle the ad also names in clear.
            named_tg = [i["value"] for s in segs for i in s.indicators if i["kind"] in ("bot", "telegram")]
            if named_tg:
                label = rnd.choice(options_for(g.sale["call_to_action"], lang, rnd, self.langs))
                segs += [Seg("\n")] + [Seg(label, entity="text_link", href=f"https://t.me/{rnd.choice(named_tg)}")]
        self._finish(segs, chat, when, "sale", "sale_ad", lang, city, author, tg, used,
                     ad={"account_ids": [d["drop"].account_id for d in named], "prices": dict(self.prices)})
        if not self.prices:
            # Prices the buyer gets from the bot or operator when the ad shows none.
            for _, p in used or [primary]:
                w = p["weights"][min(1, len(p["weights"]) - 1)]
                self.prices[f"{p['key']}:{weight_str(w)}{p['unit']}"] = self.price(p["key"], w)
            g.drafts[-1]["ad"]["prices"] = dict(self.prices)

    def usable(self, templates: list[str]) -> list[str]:
        """Templates whose contacts the shop has (no "Tor:" line for a shop without an onion site)."""
        missing = [m for m, have in (("{onion}", self.shop.onion), ("{site}", self.shop.domain)) if not have]
        ok = [t for t in templates if not any(m in t for m in missing)]
        return ok or templates

    def _how(self, d: DropSpell) -> str:
        if d.card and d.phone:
            x = self.rnd.random()
            return "card" if x < 0.6 else "phone" if x < 0.87 else "both"
        return "card" if d.card else "phone"

    def recruitment(self, when: datetime) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        lang, self.mix = self.pick_lang()
        chat, author, tg = self.venue(recruitment=True)
        city = chat["city"] or tg["city"]
        used: list[tuple[str, dict]] = []
        self.prices = {}
        ctx = self.ctx(city, lang, used, [], [], rnd.choice(self.products))
        structure = rnd.choice(g.rec["structures"])
        blocks = []
        for b in structure:
            if b.startswith("?") and rnd.chance(0.45):
                continue
            block = g.rec["blocks"][b.lstrip("?")]
            options = block.get(lang if lang != "mixed" else rnd.choice(self.mix)) or block["ru"]
            blocks.append(g.rec_g.expand(rnd.choice(self.usable(options)), lang, rnd, ctx, self.mix))
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        if not any(s.indicators for s in segs):
            segs += [Seg("\n")] + ctx["handle"](lang)
        self._finish(segs, chat, when, "recruitment", "recruitment", lang, city, author, tg, [], ad=None)

    def _finish(self, segs: list[Seg], chat: dict, when: datetime, label: str, kind: str, lang: str, city: str,
                author: str, tg: dict, used: list[tuple[str, dict]], ad: dict | None) -> None:
        g, rnd = self.g, self.rnd
        g.typos(segs)
        plain_text = plain(segs)  # the ad as it reads before disguise (typos are the writer's, not evasion)
        obfs: list[str] = []
        if rnd.chance(self.obf_rate * (0.7 if label == "recruitment" else 1.0)):
            # Shops keep to their habits, but copy tricks from others now and then.
            techniques = self.techniques if rnd.chance(0.7) else rnd.sample(TECHNIQUES, 1 + rnd.below(2))
            obfs = g.obf.apply(segs, techniques, rnd, rate=rnd.between(0.35, 0.9))
        cats = sorted({c for c, _ in used})
        if label == "recruitment":
            cats = []
        if chat["platform"] == "telegram":
            tg["photo"] = rnd.chance(0.45)
            tg["edited"] = rnd.chance(0.08)
        g.add_draft(segs, chat, when, label=label, kind=kind, lang=lang, obfuscations=obfs, shop_id=self.shop.shop_id,
                    categories=cats, city=city, author=author, plain_text=plain_text, ad=ad, tg=tg, url=tg.get("url"))


