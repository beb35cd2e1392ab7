// The site theme: VitePress's default theme plus the components the pages use (playground, bench charts,
// the attention-as-an-MLP figure).
import type { Theme } from 'vitepress';
import DefaultTheme from 'vitepress/theme';
import AttentionFigure from './components/AttentionFigure.vue';
import BenchResults from './components/BenchResults.vue';
import WfPlayground from './components/WfPlayground.vue';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('WfPlayground', WfPlayground);
    app.component('BenchResults', BenchResults);
    app.component('AttentionFigure', AttentionFigure);
  },
} satisfies Theme;
